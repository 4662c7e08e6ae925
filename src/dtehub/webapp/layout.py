"""What the layout of every signed-in page shows: the person, the company worked on and the others
to switch to, the navigation, and the message a form left (``?ok=…``: fixed texts, never the URL's)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from dtehub.models import Role
from dtehub.users.repository import CompanyOfUser
from dtehub.users.service import Staff, companies_of

ROLE_NAMES = {"owner": "Administrador", "collector": "Cobranza", "viewer": "Lectura"}

MESSAGES = {
    "password": "Contraseña guardada. Ingrese con la nueva.",
    "totp": "Segundo factor activado.",
    "require-totp": "Exigencia de segundo factor actualizada.",
    "invited": "Invitación enviada.",
    "invite-unsent": "El usuario quedó con acceso, pero el correo no se pudo enviar: pídale que use "
    "«¿Olvidó su contraseña?» en la página de ingreso.",
    "revoked": "Token revocado.",
    "company": "Empresa cambiada.",
    "payment": "Pago registrado.",
    "reminder": "Recordatorio enviado a la bandeja de salida; su resultado está en la línea de tiempo.",
    "reminder-already": "Este documento ya tenía un recordatorio de hoy: no se envió otro.",
    "tag": "Etiqueta agregada.",
    "tag-already": "El documento ya tenía esa etiqueta.",
    "renewed": "Enlace renovado: los enlaces anteriores del cliente ya no funcionan.",
    "reconciled": "Pago conciliado: sus documentos ya lo cuentan.",
    "discarded": "Pago descartado: sus documentos vuelven a deber lo que les daba.",
    "import": "Importación iniciada: esta página muestra su avance.",
    "certificate": "Certificado guardado: dtehub lo usa desde ahora para ingresar al SII.",
    "certificate-removed": "Certificado eliminado: dtehub ya no ingresa al SII por la empresa.",
    "sync": "Sincronización iniciada: esta página muestra su avance.",
    "company-data": "Datos de la empresa guardados.",
    "printing": "Datos de impresión guardados.",
    "reminders": "Recordatorios guardados.",
    "logo": "Logo guardado.",
    "logo-removed": "Logo eliminado.",
    "role": "Rol cambiado.",
    "member-removed": "La persona ya no tiene acceso a la empresa.",
    "webhook": "Webhook creado.",
    "webhook-deleted": "Webhook eliminado: no se le envía nada más.",
    "client-reminders": "Recordatorios del cliente guardados.",
}


@dataclass(frozen=True)
class Layout:
    staff: Staff
    company: CompanyOfUser
    companies: list[CompanyOfUser]
    section: str
    message: str | None

    @property
    def role_name(self) -> str:
        return ROLE_NAMES.get(self.staff.role.value, self.staff.role.value)

    @property
    def collects(self) -> bool:
        """Collectors and owners: the navigation shows what only they may use (imports)."""
        return self.staff.may(Role.COLLECTOR)


def layout(session: Session, staff: Staff, section: str, ok: str | None = None) -> Layout:
    companies = companies_of(session, staff.user_id)
    current = next(c for c in companies if c.company_id == staff.company_id)
    return Layout(staff, current, companies, section, MESSAGES.get(ok or ""))
