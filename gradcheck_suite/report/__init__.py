"""The result model and every format written from it; imports nothing of the grading layers."""
