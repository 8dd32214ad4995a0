"""Server-rendered pages under /ui/ for the people who supervise (GOV.UK Design System)."""
