"""The push API (HTTP in): check-ins sent by other systems with a workspace token."""
