"""Course-authoring commands: release, new, check-tolerances, the generated field reference."""
