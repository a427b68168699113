"""Uploads: profile photos and chat attachments, checked and rewritten before they are stored.

Supabase Storage only checks the Content-Type a client declares, so this package is the one
place the bytes are really examined: the body is read under a cap (`body`), the format is
sniffed (`sniff`), images are decoded and re-encoded as metadata-free WebP (`images`), PDFs
are inspected for active content (`pdf`), and only then is anything stored
(`service.storage`) and recorded in Postgres, as the caller.
"""

from service.uploads.routes import router

__all__ = ["router"]
