"""The run store and durable files: atomic writes (temp file + rename) used by every
writer in caramba, run directories, status and the run index."""
