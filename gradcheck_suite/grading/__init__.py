"""Running checks into results: a submission becomes a grade book."""
