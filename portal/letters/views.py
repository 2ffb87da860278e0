from flask import Blueprint

bp = Blueprint("letters", __name__, url_prefix="/t/<tenant>/letters")
