"""What every process that writes manifests shares: hand-in, saving, dry-run costs.

``submit`` is the ``submit_manifest`` process tool (validated at once through the MCP
``validate_manifest`` tool); ``save`` writes a manifest where it runs (relative file
paths rewritten against the workspace, compiled again where saved); ``costs`` keeps
the dry-run numbers a process reports and renders them as CSV and Markdown.
"""
