"""In-process fakes of outside services, driven through their real client libraries."""
