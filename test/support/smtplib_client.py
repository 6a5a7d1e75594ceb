"""Drives the gateway with Python's smtplib (a client nobody on this project wrote).

Usage: smtplib_client.py PORT; prints one JSON object with every reply, for the test to assert on.
"""
import json
import smtplib
import sys

port = int(sys.argv[1])
out = {}
s = smtplib.SMTP('127.0.0.1', port, timeout=20)
code, _ = s.ehlo('mua.example.com')
out['ehlo'] = {'code': code, 'features': sorted(s.esmtp_features.keys()),
               'deliverby': s.esmtp_features.get('deliverby', ''), 'mt-priority': s.esmtp_features.get('mt-priority', '')}

# The seed's first-hop dialog (draft-melnikov-smtp-altrecip-on-error, IETF 80 slides).
code, msg = s.mail('eljefe@example.com', ['BY=120;R', 'ENVID=QQ314159', 'ABY=60;R'])
out['seed_mail'] = [code, msg.decode()]
code, msg = s.rcpt('topbanana@example.net', ['ARCPT=rfc822;bottom-apple@loc2.example.org'])
out['seed_rcpt1'] = [code, msg.decode()]
code, msg = s.rcpt('Dana@Ivory.example.net', ['NOTIFY=SUCCESS,FAILURE', 'ORCPT=rfc822;Dana@Ivory.example.net'])
out['seed_rcpt2'] = [code, msg.decode()]
code, msg = s.data(b'From: eljefe@example.com\r\nTo: topbanana@example.net\r\nSubject: seed\r\n\r\nhello\r\n')
out['seed_data'] = [code, msg.decode()]

# The seed's priority example: the draft keyword.
try:
    refused = s.sendmail('eljefe@example.com', ['topbanana@example.net'], b'Subject: p40\r\n\r\nx\r\n',
                         mail_options=['PRIORITY=40'])
    out['draft'] = ['ok', sorted(refused)]
except smtplib.SMTPException as e:
    out['draft'] = ['error', repr(e)]

# RFC 6710 with sendmail()'s own parameter handling.
refused = s.sendmail('eljefe@example.com', ['a@example.net', 'b@example.net'], b'Subject: mt5\r\n\r\ny\r\n',
                     mail_options=['MT-PRIORITY=5', 'BY=600;NT'], rcpt_options=['NOTIFY=NEVER'])
out['mt5'] = sorted(refused)

for name, opts in [('plus3', ['MT-PRIORITY=+3']), ('unknown', ['X-UNKNOWN=1']), ('both', ['MT-PRIORITY=3', 'PRIORITY=40']),
                   ('by0r', ['BY=0;R'])]:
    s.rset()
    code, msg = s.mail('eljefe@example.com', opts)
    out[name] = [code, msg.decode()]
s.quit()
print(json.dumps(out))
