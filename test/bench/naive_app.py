"""The baseline many tutorials ship: `python app.py`, Flask's development server. Never use this in an image."""

import os

from service import create_app

app = create_app()

if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "8080")))
