"""The only door to student code: loading a file, the styles, the guards, the in-process op."""
