"""The demo data: the meeting of 6 December 2010 of Beskæftigelses- og Integrationsudvalget."""
