"""The example AI app: `uvicorn examples.fastapi_app.app:create_app --factory`."""
