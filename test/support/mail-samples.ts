/**
 * Synthetic but realistic mail (1-4 KB, today's headers), for compression checks. Written here, never read from
 * a corpus, so the tests run without /work/shared. The dictionary was not trained on them.
 */

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n') + '\r\n', 'utf8');

/** A short operational message from a field laptop, as the gateway stores it (its Received line first). */
export const fieldReport = crlf([
  'Received: from laptop.field.example ([10.1.0.7]) by alpha.field.example with ESMTP id 01ABCD for <ops@base.example> PRIORITY 4; Tue, 03 Mar 2026 09:12:00 +0000',
  'From: Field Team 3 <team3@field.example>',
  'To: ops@base.example',
  'Subject: water supply status at camp 4',
  'Date: Tue, 03 Mar 2026 09:11:58 +0000',
  'Message-ID: <20260303091158.4411@field.example>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=UTF-8',
  'Content-Transfer-Encoding: 8bit',
  'User-Agent: Mozilla Thunderbird',
  '',
  'Water supply at camp 4 is down to two days. The pump on the north well failed this morning and we need',
  'a replacement impeller (model 5-220) and two jerry cans of fuel for the generator. Please confirm',
  'whether the convoy on Thursday can carry them, or send them by helicopter to the landing zone.',
  '',
  'Regards,',
  'Team 3',
]);

/** A reply with a quoted original, through two relays, DKIM-signed. */
export const quotedReply = crlf([
  'Return-Path: <m.okafor@relief.example.org>',
  'Received: from mail.relief.example.org (mail.relief.example.org [198.51.100.23])',
  '\tby mx1.base.example (Postfix) with ESMTPS id 4Rk2Lq0xYzz9sTm',
  '\tfor <ops@base.example>; Wed, 04 Mar 2026 14:02:11 +0000 (UTC)',
  'Received: from [192.168.10.44] (unknown [203.0.113.9])',
  '\t(Authenticated sender: m.okafor@relief.example.org)',
  '\tby mail.relief.example.org (Postfix) with ESMTPSA id 8C1F2203A1',
  '\tfor <ops@base.example>; Wed, 04 Mar 2026 14:02:09 +0000 (UTC)',
  'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=relief.example.org; s=mail2025; t=1772632931;',
  '\tbh=q2pYl0mN8v3Kc9Zt7Uw1Xe5Rb4Hs6Jd0Fg2Ai8Lo3Ty=;',
  '\th=Date:From:To:Subject:In-Reply-To:References:From;',
  '\tb=Hk3lP0s9Qw2Ez7Xc4Vb8Nm1Ls5Dk6Fj9Gh3Ta0Yr2Ue7Wi4Oq8Pz1Xm5Cn6Bv0Lk3Jh9Gf2Ds7Ap4So1Di8Fu6Gy3Ht5Jr0Ke2Lw9',
  '\t Mq4Nx7Bz1Vc8Xa5Sd2Fg6Hj3Kl0Qw9Er4Ty7Ui1Op3As6Df8Gh2Jk5Lz0Xc4Vb7Nm9Qa1Ws3Ed6Rf8Tg0Yh2Uj5Ik7Ol9Pz3Xs==',
  'Message-ID: <5e1c0a7b-2f9d-4b1e-9a63-0c8d7e2f4a51@relief.example.org>',
  'Date: Wed, 4 Mar 2026 15:02:05 +0100',
  'MIME-Version: 1.0',
  'User-Agent: Mozilla Thunderbird',
  'Subject: Re: water supply status at camp 4',
  'Content-Language: en-GB',
  'To: Operations <ops@base.example>',
  'Cc: Field Team 3 <team3@field.example>',
  'References: <20260303091158.4411@field.example> <e4b2d1c0-77aa-4f0e-8b1d-3a9c5e6f7d80@base.example>',
  'In-Reply-To: <e4b2d1c0-77aa-4f0e-8b1d-3a9c5e6f7d80@base.example>',
  'From: Maria Okafor <m.okafor@relief.example.org>',
  'Content-Type: text/plain; charset=UTF-8; format=flowed',
  'Content-Transfer-Encoding: 7bit',
  '',
  'Hello all,',
  '',
  'We have two impellers of the 5-220 type in the Kisumu store and can put them on',
  "Thursday's convoy together with 40 litres of diesel. The helicopter is booked for",
  'medical evacuations this week, so the convoy is the only option before Monday.',
  '',
  'Please make sure someone at camp 4 can sign for the parts; the driver will not',
  'leave them unattended.',
  '',
  'Best regards,',
  'Maria',
  '',
  'On 03/03/2026 18:40, Operations wrote:',
  '> Maria, can relief logistics help with the camp 4 request below? We have',
  '> no spare impellers left at base.',
  '>',
  '> -------- Forwarded Message --------',
  '> Subject: water supply status at camp 4',
  '> Date: Tue, 03 Mar 2026 09:11:58 +0000',
  '> From: Field Team 3 <team3@field.example>',
  '> To: ops@base.example',
  '>',
  '> Water supply at camp 4 is down to two days. The pump on the north well failed',
  '> this morning and we need a replacement impeller (model 5-220) and two jerry',
  '> cans of fuel for the generator. Please confirm whether the convoy on Thursday',
  '> can carry them, or send them by helicopter to the landing zone.',
]);

/** A newsletter-style multipart/alternative message with a quoted-printable HTML part. */
export const multipartNotice = crlf([
  'Received: from smtp.ngo.example (smtp.ngo.example [192.0.2.45]) by mx1.base.example (Postfix) with ESMTPS id 4Rk3Mn2BcDz9sTn',
  '\tfor <all-stations@base.example>; Thu, 05 Mar 2026 06:30:02 +0000 (UTC)',
  'Authentication-Results: mx1.base.example; dkim=pass header.d=ngo.example; spf=pass smtp.mailfrom=ngo.example; dmarc=pass (p=quarantine dis=none) header.from=ngo.example',
  'From: "NGO Coordination" <coordination@ngo.example>',
  'To: all-stations@base.example',
  'Subject: Weekly coordination notice: road closures and fuel allocation',
  'Date: Thu, 05 Mar 2026 06:30:00 +0000',
  'Message-ID: <notice-2026-10.8f3a@ngo.example>',
  'MIME-Version: 1.0',
  'List-Unsubscribe: <mailto:unsubscribe@ngo.example?subject=unsubscribe>',
  'Content-Type: multipart/alternative; boundary="----=_Part_1841_20260305"',
  '',
  '------=_Part_1841_20260305',
  'Content-Type: text/plain; charset=UTF-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Weekly coordination notice',
  '',
  '1. The road from Lodwar to Kakuma is closed between km 42 and km 57 until',
  'further notice. Convoys use the northern detour (add 3 hours).',
  '2. Fuel allocation for March: 1,200 litres per station, to be collected at',
  'the central depot on Mondays and Thursdays.',
  '3. Radio schedule: daily check-in at 07:00 and 19:00 local time on the',
  'primary frequency; the secondary frequency is for emergencies only.',
  '',
  '------=_Part_1841_20260305',
  'Content-Type: text/html; charset=UTF-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  '<html><head><meta http-equiv=3D"Content-Type" content=3D"text/html; charset=3DU=',
  'TF-8"></head><body style=3D"font-family:Arial,sans-serif">',
  '<h2>Weekly coordination notice</h2>',
  '<ol><li>The road from Lodwar to Kakuma is closed between km 42 and km 57 until=',
  ' further notice. Convoys use the northern detour (add 3 hours).</li>',
  '<li>Fuel allocation for March: 1,200 litres per station, to be collected at t=',
  'he central depot on Mondays and Thursdays.</li>',
  '<li>Radio schedule: daily check-in at 07:00 and 19:00 local time on the prima=',
  'ry frequency; the secondary frequency is for emergencies only.</li></ol>',
  '</body></html>',
  '',
  '------=_Part_1841_20260305--',
]);

/** A message from Outlook through Exchange Online, with its usual header fields. */
export const outlookMessage = crlf([
  'Received: from EUR03-AM7-obe.outbound.protection.outlook.com (mail-am7eur03on2101.outbound.protection.outlook.com [40.107.105.101])',
  '\tby mx1.base.example (Postfix) with ESMTPS id 4Rk4Pq7CdFz9sTp',
  '\tfor <ops@base.example>; Fri, 06 Mar 2026 11:20:41 +0000 (UTC)',
  'From: Jonas Lindqvist <jonas.lindqvist@donor.example.se>',
  'To: "ops@base.example" <ops@base.example>',
  'Subject: Budget approval for the north well repair',
  'Thread-Topic: Budget approval for the north well repair',
  'Thread-Index: AdqPd2m8kLz7s0QvR4e3Xw1m9nTq8A==',
  'Date: Fri, 6 Mar 2026 11:20:37 +0000',
  'Message-ID: <AM7PR03MB6541C2D1E0F9A8B7C6D5E4F3A2B1C0D9E8F7@AM7PR03MB6541.eurprd03.prod.outlook.com>',
  'Accept-Language: sv-SE, en-US',
  'Content-Language: en-US',
  'X-MS-Has-Attach: ',
  'X-MS-TNEF-Correlator: ',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset="us-ascii"',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Hi,',
  '',
  'The budget for the north well repair at camp 4 is approved up to EUR 2,400, including the',
  'replacement impeller, fuel and two days of the mechanic\'s time. Please send the receipts to',
  'finance@donor.example.se within 30 days and quote the project code KE-WASH-2026-07.',
  '',
  'If the pump housing turns out to be cracked as well, send me a short estimate before ordering',
  'a new unit; anything above the approved amount needs a second signature.',
  '',
  'Kind regards,',
  'Jonas',
  '',
  'Jonas Lindqvist',
  'Programme Officer, Water and Sanitation',
  'Donor Agency',
]);

/** The samples of 1-4 KB. */
export const realisticMail: readonly Buffer[] = [quotedReply, multipartNotice, outlookMessage];

/** An HTML page of English prose (about 10 KB), where brotli's built-in dictionary beats deflate. */
export function htmlProse(seed = 7): Buffer {
  const words = ('the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there ' +
    'been one all we their has would when if so no will more its who about can out other into some could them than then only time these two may first new ' +
    'like our over such what also said very where after most just made many those much know even through back year good well people because way each ' +
    'great think say must still between own same another being world work life both might under last never while found long here without right before').split(' ');
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
  let html = '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Newsletter</title></head><body>\n';
  for (let p = 0; p < 40; p++) {
    html += '<p style="margin:0 0 12px 0;font-size:14px;line-height:20px">';
    for (let w = 0; w < 40; w++) html += words[Math.floor(next() * words.length)] + ' ';
    html += '</p>\n';
  }
  return Buffer.from(html + '</body></html>\n');
}

/** Incompressible bytes from a seed (xorshift32), so a failure replays. */
export function noise(length: number, seed = 1): Uint8Array {
  let x = seed || 1;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
