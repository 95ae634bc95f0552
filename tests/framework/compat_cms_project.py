"""A project laid out the way flask-cms is: a thin lowercase ``server/`` delegating to an installed-style
package (``sitecms``) whose routes depend on ``Environment.Logins`` written as flask-framework's list, a
local login set up through ``Process.login_manager(LoginManager())``, admin views behind
``admin_login_required``, a CSRF exemption by dotted view name, and public pages served from the database
by the 404 handler (falling back to flask-framework's ``page_or_error404``)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from .helpers import write_project

SITE_CMS = {
    "server/__init__.py": "from . import web, errorhandler\n",
    "server/web.py": """
        import sitecms


        class Route(object):
            def __init__(self, server):
                sitecms.server.web.Route(server)
    """,
    "server/errorhandler.py": """
        import sitecms


        class Route(object):
            def __init__(self, server):
                sitecms.server.errorhandler.Route(server)
    """,
    "models/__init__.py": "",
    "models/persistent/__init__.py": "",
    "models/persistent/site/__init__.py": "from sitecms.models.persistent.site import *\n",
    "template/themes/default/page.html": "<main><h1>{{ page.title }}</h1>{{ page.body | safe }}</main>\n",
    "template/logins/base.html": """
        <form method="post" action="{{ url_for('base.login.send') }}{% if request.args.next
            %}?next={{ request.args.next }}{% endif %}">
        {{ form.hidden_tag() }}{{ form.email }}{{ form.password }}</form>
    """,
    "sitecms/__init__.py": "from . import server\n",
    "sitecms/server/__init__.py": "from . import web, errorhandler\n",
    "sitecms/server/web.py": """
        from flask_framework.Config import Environment


        class Route(object):
            def __init__(self, server):
                from sitecms import controllers
                if 'BASE' in Environment.Logins:
                    controllers.login.setup()
                others = Environment.Logins.copy()
                for login in ['BASE', 'LDAP', 'SAML2', 'OpenID']:
                    try:
                        others.remove(login)
                    except ValueError:
                        continue
                server.config['SITE_OTHER_LOGINS'] = list(others)
                controllers.admin.setup()
    """,
    "sitecms/server/errorhandler.py": """
        class Route(object):
            def __init__(self, server):
                from sitecms import controllers
                server.register_error_handler(404, controllers.render.render_or_not_found)
    """,
    "sitecms/controllers/__init__.py": "from . import admin, login, render\n",
    "sitecms/controllers/login.py": """
        import hashlib

        from flask import current_app, redirect, render_template, request, url_for
        from flask_framework import Server
        from flask_framework.Database import Database
        from flask_login import LoginManager, login_required, login_user, logout_user
        from flask_wtf import FlaskForm
        from wtforms import PasswordField, StringField

        from sitecms.models.persistent import site


        class Form(FlaskForm):
            email = StringField(label='Email')
            password = PasswordField(label='Password')


        @Server.deniedwebcall
        def setup():
            Server.Process.login_manager(LoginManager()).init_app(app=Server.Process.get()) \\
                if Server.Process.login_manager() is None else Server.Process.login_manager()
            Server.Process.login_manager().login_view = 'base.login'
            Server.Process.login_manager().user_loader(user)
            Server.Process.get().add_url_rule('/base/login/', 'base.login', index, methods=['GET'])
            Server.Process.get().add_url_rule('/base/login/', 'base.login.send', send, methods=['POST'])
            Server.Process.get().add_url_rule('/base/logout/', 'base.logout', logout, methods=['POST'])


        def user(id):
            return Database.session.query(site.Users).filter(site.Users.id == int(id)).first()


        def index():
            return render_template(current_app.config['BASE_LOGIN_TEMPLATE'], form=Form())


        def send():
            form = Form()
            if form.validate_on_submit():
                found = Database.session.query(site.Users).filter(site.Users.email == form.email.data).first()
                digest = hashlib.sha512(form.password.data.encode('utf-8')).hexdigest()
                if found is not None and found.password == digest:
                    login_user(found)
                    return redirect(request.args.get('next') or url_for('admin.index'))
            return redirect(url_for('base.login'))


        @login_required
        def logout():
            logout_user()
            return redirect(url_for('base.login'))
    """,
    "sitecms/controllers/admin.py": """
        from flask import redirect, request, url_for
        from flask_framework.Database import Database
        from flask_framework.Server import Process, deniedwebcall
        from flask_framework.Utils.Auth import admin_login_required as login_required

        from sitecms.models.persistent import site


        @deniedwebcall
        def setup():
            app = Process.get()
            app.add_url_rule('/admin/', 'admin.index', index, methods=['GET'])
            app.add_url_rule('/admin/pages/', 'admin.pages.save', save, methods=['POST'])
            app.add_url_rule('/admin/preview/', 'admin.preview', preview, methods=['POST'])
            Process._csrf.exempt("{}.preview".format(__name__))


        @login_required
        def index():
            pages = Database.session.query(site.Contents).order_by(site.Contents.url).all()
            return 'pages: ' + ', '.join(page.url for page in pages)


        @login_required
        def save():
            Database.session.add(site.Contents(
                url=request.form['url'], title=request.form['title'], body=request.form['body'],
                activated=request.form.get('publish') == 'y',
            ))
            Database.session.commit()
            return redirect(url_for('admin.index'))


        @login_required
        def preview():
            return request.form.get('body', '')
    """,
    "sitecms/controllers/render.py": """
        from flask import render_template as template
        from flask import request
        from flask_framework.Controllers.Web.HTTP40XController import page_or_error404
        from flask_framework.Database import Database
        from flask_login import current_user

        from sitecms.models.persistent import site


        def render_or_not_found(error):
            page = Database.session.query(site.Contents).filter(site.Contents.url == request.path).first()
            if page is not None and (page.activated or getattr(current_user, 'is_admin', False)):
                return template('themes/default/page.html', page=page)
            return page_or_error404(error)
    """,
    "sitecms/models/__init__.py": "",
    "sitecms/models/persistent/__init__.py": "from . import site\n",
    "sitecms/models/persistent/site/__init__.py": """
        from .contents import Contents
        from .users import Users
    """,
    "sitecms/models/persistent/site/contents.py": """
        from flask_framework.Database import Database
        from sqlalchemy import BOOLEAN, TEXT, VARCHAR, Column, Integer


        class Contents(Database.Model):
            __tablename__ = 'content'

            id = Column(Integer, primary_key=True, autoincrement=True)
            url = Column(VARCHAR(256), nullable=False, unique=True)
            title = Column(VARCHAR(256), nullable=False)
            body = Column(TEXT)
            activated = Column(BOOLEAN, nullable=False, default=False)
    """,
    "sitecms/models/persistent/site/users.py": """
        from flask_framework.Database import Database
        from sqlalchemy import BOOLEAN, VARCHAR, Column, Integer


        class Users(Database.Model):
            __tablename__ = 'users'

            id = Column(Integer, primary_key=True, autoincrement=True)
            email = Column(VARCHAR(256), unique=True)
            password = Column(VARCHAR(512))
            is_active = Column(BOOLEAN())
            is_admin = Column(BOOLEAN())
            is_anonymous = False

            @property
            def is_authenticated(self):
                return bool(self.is_active)

            def get_id(self):
                return str(self.id)
    """,
}
ADMIN_PASSWORD = "correct horse battery"


def site_cms_config(root: Path, logins: object) -> Path:
    """flask-cms's README configuration (``DATABASE`` with ``default: <name>``) on SQLite, with ``LOGINS``
    as given (flask-framework's list, or Conexoos's mapping)."""
    config = {
        "SERVER_ENV": {
            "APP_NAME": "Flask",
            "APP_KEY": "s" * 48,
            "ENV": "DEV",
            "CAPTURE": False,
            "STATIC_PATH": "static",
            "TEMPLATE_PATH": "template",
            "SESSION": "filesystem",
            "INSTANCE_PATH": str(root / "instance"),
        },
        "DATABASE": {
            "default": "site",
            "site": {"driver": "sqlite", "database": "site.db", "readonly": False, "models": "site"},
        },
        "LOGINS": logins,
        "FLASK": {"CONFIG": {"BASE_LOGIN_TEMPLATE": "logins/base.html"}},
        "SERVICES": {"filesystem": {"PATH": "sessions"}},
    }
    path = root / "config.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def site_cms_project(root: Path, logins: object) -> tuple[Path, Path]:
    """The project and its configuration file."""
    return write_project(root / "site", SITE_CMS), site_cms_config(root, logins)


def admin_password_digest() -> str:
    """The SHA-512 hex digest the project stores (as flask-cms does)."""
    return hashlib.sha512(ADMIN_PASSWORD.encode("utf-8")).hexdigest()
