"""Quality of service: monthly helpdesk indicators per member, dashboards, reports."""
