"""What is shown: the leaderboard (:mod:`.leaderboard`: stored rows → a ranked :class:`Board` in
:mod:`.frame`, rendered by :mod:`.terminal`, :mod:`.markdown`, :mod:`.html` with :mod:`.figures`)
and the paper-vs-measured report (:mod:`.paper`). Reads the store; never runs cells."""
