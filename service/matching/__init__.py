"""Matching: rank locals for a traveler's trip (`GET /api/v1/matches`).

The ranking itself is SQL (`public.match_locals`, supabase/migrations/*_matching.sql); this
package only parses the request, runs the function as the caller and pages the answer.
"""

from service.matching.routes import router

__all__ = ["router"]
