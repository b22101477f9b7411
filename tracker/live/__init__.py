"""What runs live on the asyncio loop: a session from its sensor to the store (the link, the
recorder and its checkpoints), whether it may start, the guided calibration step, and the MQTT
bridge beside it."""
