"""受付・形式審査: the secretariat's eligibility checklist and its accept / return / reject verbs, and the 担当課所見."""
