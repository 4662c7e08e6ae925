"""Take the README's screenshots of the web app: the dashboard, a document's page and the portfolio.

Seeds a company with a year and a bit of invoices to eight clients, most paid (through createPayment, so
the monthly collections have something to show), some overdue, one partly paid and tagged; a second
company for the portfolio; an owner of both. Serves the real app in this process (the browser tests'
server, its own SQLite file in a temporary folder) and drives Debian's chromium with the browser tests'
settings. Run from the repository's root:

    .venv/bin/python docs/screenshots/take.py          # writes docs/screenshots/app-*.png
"""

from __future__ import annotations

import random
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from playwright.sync_api import sync_playwright  # noqa: E402
from tests.e2e.app_server import AppServer, app_server  # noqa: E402
from tests.e2e.test_portal_in_a_browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP  # noqa: E402

from dtehub.companies.service import create_company  # noqa: E402
from dtehub.db import create_engine, create_sessionmaker, unit_of_work  # noqa: E402
from dtehub.kit.dates import today_in_santiago, utcnow  # noqa: E402
from dtehub.models import Role  # noqa: E402
from dtehub.users import service as users  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
EMAIL = "ana@example.cl"
PASSWORD = "una frase larga para las capturas"
CLIENTS = [
    ("ALFA LTDA", "96874030-K"),
    ("CONSTRUCTORA LOS ANDES SPA", "76086428-5"),
    ("DISTRIBUIDORA DEL PACÍFICO LTDA", "78456123-2"),
    ("FERRETERÍA EL ROBLE SPA", "77123456-9"),
    ("TRANSPORTES BIOBÍO LTDA", "76543210-3"),
    ("AGRÍCOLA VALLE CENTRAL SPA", "79876543-4"),
    ("CLÍNICA DENTAL SONRISA SPA", "76111222-8"),
    ("IMPRENTA ATACAMA LTDA", "77654321-7"),
]


def _seed(server: AppServer, token: str, today: date, documents: int, seed: int) -> int | None:
    """Invoices over the last 14 months, paid around their due date when old enough (some late, some
    never); returns an overdue, partly paid invoice's id."""
    rng = random.Random(seed)
    featured = None
    with server.api(token) as api:
        clients = []
        for name, rut in CLIENTS:
            created = api.post("/v1/createClient", json={"name": name, "taxId": rut})
            assert created.status_code == 200, created.text
            clients.append((created.json()["id"], rut))
        for number in range(1, documents + 1):
            issue = today - timedelta(days=420 - number * 420 // documents)
            due = issue + timedelta(days=rng.choice((30, 30, 45, 60)))
            net = rng.randrange(40, 900) * 10_000
            client_id, rut = clients[rng.randrange(len(clients))]
            body = {
                "clientId": client_id, "number": str(1000 + number), "code": 33,
                "total": str(net * 119 // 100), "taxes": str(net * 19 // 100),
                "issueDate": issue.isoformat(), "dueDate": due.isoformat(),
                "gloss": rng.choice(("Arriendo de equipos", "Servicios de mantención", "Venta de insumos")),
            }  # fmt: skip
            if featured is None and today - due > timedelta(days=20):
                body["tags"] = ["cobranza-prioritaria"]
            created = api.post("/v1/createDocument", json=body)
            assert created.status_code == 200, created.text
            document_id = created.json()["id"]
            total = net * 119 // 100
            paid_on = due + timedelta(days=rng.choice((-10, -3, 0, 2, 8, 20)))
            if featured is None and today - due > timedelta(days=20):
                featured, amount, paid_on = document_id, total // 3, due + timedelta(days=5)
            elif paid_on < today - timedelta(days=2) and rng.random() < 0.85:
                amount = total
            else:
                continue
            payment = {
                "date": paid_on.isoformat(), "amount": str(amount), "currency": "CLP",
                "clientTaxId": rut, "paymentMethodId": rng.choice((1, 1, 2)),
                "description": "Transferencia", "documents": [{"id": document_id, "amount": str(amount)}],
            }  # fmt: skip
            paid = api.post("/v1/createPayment", json=payment)
            assert paid.status_code == 200, paid.text
    return featured


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    today = today_in_santiago()
    with tempfile.TemporaryDirectory() as folder, app_server(Path(folder)) as server:
        engine = create_engine(server.settings.database_url, pool_size=1)
        with unit_of_work(create_sessionmaker(engine)) as session:
            a = create_company(session, rut="76453707-6", name="DUEMINT SPA", payment_term_days=30)
            b = create_company(
                session, rut="76399752-9", name="COMERCIALIZADORA INNOVA MOBEL SPA", payment_term_days=30
            )
            user = users.create_user(session, EMAIL, name="Ana Rojas")
            users.grant(session, user, a.company.id, Role.OWNER)
            users.grant(session, user, b.company.id, Role.COLLECTOR)
            users.set_password(session, user, PASSWORD, utcnow())
            token_a, token_b = a.token, b.token
        engine.dispose()
        featured = _seed(server, token_a, today, 160, seed=1)
        _seed(server, token_b, today, 50, seed=2)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_context(viewport=DESKTOP, locale="es-CL").new_page()
            page.goto(f"{server.base}/app/login")
            page.get_by_label("Correo electrónico").fill(EMAIL)
            page.get_by_label("Contraseña").fill(PASSWORD)
            page.get_by_role("button", name="Ingresar").click()
            page.wait_for_url(f"{server.base}/app/")
            shots = [("app-dashboard.png", "/app/"), ("app-document.png", f"/app/documents/{featured}")]
            shots.append(("app-portfolio.png", "/app/portfolio"))
            for name, path in shots:
                page.goto(server.base + path)
                page.screenshot(path=str(OUT / name), full_page=True, animations="disabled")
                print(OUT / name)
            browser.close()


if __name__ == "__main__":
    main()
