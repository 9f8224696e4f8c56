"""Where flow logs come from: local files and folders, Azure Blob Storage."""
