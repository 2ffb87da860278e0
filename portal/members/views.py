from flask import Blueprint

bp = Blueprint("members", __name__, url_prefix="/t/<tenant>/members")
