"""The call (募集): setting it up, its settings and their rules, publishing it and recording every later change."""
