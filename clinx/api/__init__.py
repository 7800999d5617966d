"""Management API: New API's /api/* routes with the {success, message, data} envelope."""
