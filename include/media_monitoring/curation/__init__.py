"""Watchlists and subscriptions as analysts change them in the view, and where the truth about them lives.

**The warehouse is the source of truth; the YAML files are how a deploy feeds it.** Every version of every
watchlist (``watchlist_versions``) and of every subscription (``subscription_versions``) is a row that is never
changed or deleted, with who made it, when, from where (``file`` or ``view``) and the diff from the one before.
What the pipeline, the digests, the alerts and the view use is the newest version of each.

* ``include/config/watchlists.yaml``: a watchlist version in the file that the warehouse has not stored yet
  (a new ``version:``) is imported as the newest version the next time anything reads the watchlists. A
  redeploy of the same file changes nothing, so an edit made in the view is never undone by a redeploy. A
  file whose content changed without a new version is ignored, with a warning in the logs.
* ``include/config/analysts.yaml``: a subscription whose entry in the file differs from every entry imported
  from the file before is imported as its newest version; an unchanged entry leaves the view's edits in force.
* ``media-monitor watchlists export`` writes the versions in force as watchlists.yaml, so a change made in the
  view can be reviewed and committed to git; ``media-monitor watchlists history NAME`` prints every version
  with its diff.

A file import that replaces a version made in the view logs a warning naming it; the view's version stays in
the history and its diff stays readable there.
"""
