"""Column primitives shared by every layer: canonical Arrow text and compact categoricals, record order, memory."""
