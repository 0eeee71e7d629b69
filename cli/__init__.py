"""The command-line front: thin commands that parse arguments, call one engine,
code-graph or agent function, and format the result. Heavy imports stay inside the
command functions so that ``caramba --help`` is instant."""
