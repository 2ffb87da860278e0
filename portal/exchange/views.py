from flask import Blueprint

bp = Blueprint("exchange", __name__, url_prefix="/t/<tenant>/exchange")
