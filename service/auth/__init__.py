"""Auth: the service is the project's auth server (signup, login, refresh, logout, tokens).

Its tokens are the ones Supabase's own servers accept; see `service.core.security`.
"""

from service.auth.routes import jwks_router, router

__all__ = ["jwks_router", "router"]
