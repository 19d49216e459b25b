"""Domain errors that views and the API turn into a message and a 4xx answer."""


class OperationError(Exception):
    """A state change that is not allowed; `message` is already translated for the user."""

    def __init__(self, message: str, status: int = 422, code: str = "invalid"):
        super().__init__(str(message))
        self.message = str(message)
        self.status = status
        self.code = code
