"""The Vietnamese words the page and the CLI show for the search core's codes (statuses, relation types).

The core speaks in codes (`repealed`, `implements`); what a reader sees is chosen here, once.
"""

STATUS_LABELS = {
    "repealed": "Hết hiệu lực",
    "partly_repealed": "Hết hiệu lực một phần",
    "amended": "Còn hiệu lực, đã được sửa đổi, bổ sung",
    "in_force": "Còn hiệu lực",
    "unknown": "Chưa rõ hiệu lực",
}
TYPE_LABELS = {
    "basis": "Căn cứ",
    "implements": "Thực hiện, triển khai",
    "guides": "Hướng dẫn, quy định chi tiết",
    "amends": "Sửa đổi, bổ sung",
    "replaces": "Thay thế",
    "repeals": "Bãi bỏ, làm hết hiệu lực",
    "repeals_part": "Bãi bỏ một phần",
    "cites": "Dẫn chiếu",
}
# The same relation seen from the other end ("văn bản bị sửa đổi bởi …").
TYPE_LABELS_IN = {
    "basis": "Là căn cứ của",
    "implements": "Được thực hiện, triển khai bởi",
    "guides": "Được hướng dẫn, quy định chi tiết bởi",
    "amends": "Được sửa đổi, bổ sung bởi",
    "replaces": "Bị thay thế bởi",
    "repeals": "Bị bãi bỏ, hết hiệu lực bởi",
    "repeals_part": "Bị bãi bỏ một phần bởi",
    "cites": "Được dẫn chiếu bởi",
}
