"""MySQL: the business database (raw messages). Read-only user; password only from the environment."""

from datasources import _uids as uids
from lgtm_dash.model.datasource import mysql

datasource = mysql(uid=uids.MYSQL, name="QGX MySQL", timezone="UTC")
