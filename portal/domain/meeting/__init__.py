"""The 審査会 and its papers: the meeting view (ranking, spread,
disagreement), the members' and the meeting's packets, the minutes
(議事録) and the 二次審査 running order. Plain Python over the models: no
Flask except where a caller passes a rendering function."""
