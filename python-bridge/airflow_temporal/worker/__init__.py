"""What runs on the worker host, started by the worker JAR: the pre-forked runner server, the task runner, and what they need."""
