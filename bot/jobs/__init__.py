"""Time in: the clock process, what is due, and sending from the outbox."""
