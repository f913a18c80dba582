"""Bodies, parties, members and seats, meetings, attendance and agenda items."""
