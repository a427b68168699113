"""LocalGhost edge service: the small FastAPI app that sits in front of Supabase."""
