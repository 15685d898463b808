"""Autograder mode: the student's code runs in a worker process; only plain data comes back."""
