"""What is stored: the row schema (:mod:`.schema`: :class:`Cell`, :class:`CellResult`, every
column), the SQLite store (:mod:`.store`, all SQL lives there), exports (:mod:`.export`) and
code/package versions (:mod:`.versions`, the resume key).

Imports only errors, config and the parameter formatting; everything above reads it.
"""
