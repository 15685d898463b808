# Wires the grader's pytest plugin for this checkout, installed or not (e.g. PYTHONPATH=. pytest exercises/).
pytest_plugins = ["gradcheck_suite.plugin"]
