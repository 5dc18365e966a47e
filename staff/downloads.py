"""Sending a verification document to a verifier: always as a download, never inline."""

from django.http import FileResponse

from accounts.models import VerificationDocument


def document_response(document: VerificationDocument) -> FileResponse:
    """The document as an attachment, with the type checked at upload (not the one the
    requester claimed), no sniffing, a sandboxing policy in case a browser renders it
    anyway, and no caching."""
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
