"""The floor: errors, logs, the request deadline and bounded calls; imports nothing of ours."""
