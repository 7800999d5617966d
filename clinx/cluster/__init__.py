"""Several nodes as one gateway: change propagation (what to reload when another node announces a write),
the leader lease and the background jobs only the leader runs, and this node's view of both for /api/health.
The Redis- and database-specific parts live in ``clinx/cache`` and ``clinx/store``; this package decides."""
