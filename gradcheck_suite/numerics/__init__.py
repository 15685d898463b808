"""Pure tensor math that never calls student code: tolerances, central differences, the reference, diagnoses."""
