"""The simulated roller: rolling physics, an IMU with real-world faults, and ground truth."""
