"""What an exercise is: the schema, YAML loading and validation, course.yaml; data, no student code."""
