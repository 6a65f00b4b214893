"""Projects kept on disk: datasets (with consent), models, scores and exports."""
