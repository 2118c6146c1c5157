#!/usr/bin/env python3
"""Writes the fuzzers' starting inputs into fuzz/seeds/<target>/ (committed, small).

PDU seeds are the published test vectors of src/modem/pdu/vectors.rs; framer seeds are
modem exchanges taken from the framer's tables; texts are what employees send. Run from
anywhere: `python3 fuzz/seeds.py`.
"""
import pathlib
import re

HERE = pathlib.Path(__file__).resolve().parent
SRC = HERE.parent / "src"


def write(target, name, data):
    folder = HERE / "seeds" / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


pdus = []
for path in [SRC / "modem/pdu/vectors.rs", SRC / "modem/sms.rs", SRC / "virtual_modem/tpdu.rs"]:
    for hexline in re.findall(r'"((?:[0-9A-F]{2}){12,})"', path.read_text()):
        if hexline not in pdus:
            pdus.append(hexline)
for i, hexline in enumerate(pdus):
    write("pdu_decode", f"vector-{i:02}", bytes.fromhex(hexline))

deliver = pdus[1] if len(pdus) > 1 else "00"
exchanges = {
    "read": (2, f'\r\n+CMTI: "SM",3\r\nAT+CMGL=4\r\r\n+CMGL: 3,0,,39\r\n{deliver}\r\n\r\nOK\r\n'),
    "send": (3, "AT+CMGS=23\r\r\n> 0011000B914477\x1a\r\n+CMGS: 12\r\n\r\nOK\r\n"),
    "noise": (1, "\x00\xff\r\n^RSSI: 17\r\nRING\r\n\r\n+CSQ: 20,99\r\n^BOOT:1,0\r\n\r\nOK\r\n"),
    "cmt": (0, f"\r\n+CMT: ,39\r\n{deliver}\r\n+CDS: 6\r\nNOT HEX\r\n"),
    "dial": (5, '\r\nATD+447400123456;\r\r\n+CLIP: "+44",145\r\nNO CARRIER\r\nBUSY\r\nCONNECT 9600\r\n'),
    "errors": (1, "\r\n+CME ERROR: SIM busy\r\n+CMS ERROR: 500\r\nCOMMAND NOT SUPPORT\r\nERROR\r\n"),
    "bare": (4, "AT+CGMI\r\r\nSIMCOM_Ltd\r\n\r\nOK\r\n"),
}
for name, (expect, text) in exchanges.items():
    write("frame", name, bytes([expect, 7]) + text.encode("latin-1"))

texts = [
    "xyz123, XYZ222", "REQUEST", "request 2", "Stop.", "START", "AGENT I need help\nwith Monday",
    "ＸＹＺ１２３、ＡＢＣ９", "#XYZ123.\n-- John", "can I have XYZ123 please", "XYZ123-XYZ130",
    "Смена XYZ123", "😀 STOP 😀", "REQUEST PAGE 99999999999", "a1 " * 60, "\u200bxyz123\u00ad",
]
for i, text in enumerate(texts):
    write("employee_text", f"text-{i:02}", text.encode("utf-8"))

csvs = {
    "shifts": "shift_id,shift_info\r\nXYZ123,Mon 06:00-14:00 Line 3\r\nXYZ222,\"Tue, late\"\r\n".encode(),
    "shifts-status": "\ufeffshift_id;shift_info;shift_status\nAB12;Wed;available\nCD34;Thu;taken\n".encode(),
    "employees": "phone,name,subscribed\n+447400123456,Anna,1\n07400 123457,\"O'Neil, Bob\",0\n".encode(),
    "campaigns": "campaign_id\tshifts\nC1\tXYZ123 Mon 06:00\n".encode(),
    "utf16": "shift_id,shift_info\r\nZZ99,Fri\r\n".encode("utf-16"),
    "quotes": "shift_id,shift_info\nQ1,\"multi\nline \"\"quoted\"\"\"\nQ2,\"unclosed\n".encode(),
    "bad": "shift_id,shift_info\nX,no digit\n,empty\nTOOLONGCODE1234567,x\n".encode(),
}
for name, data in csvs.items():
    write("csv_rows", name, data)
