"""The lab: runs the checker as a tool inside larger procedures (shrinking a
recorded history, checking under resource limits), through its public entry
points only (`parse_history_text`, `check`)."""
