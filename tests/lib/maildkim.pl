#!/usr/bin/perl
# Mail::DKIM (libmail-dkim-perl) as a peer, with keys from a zone file.
#   maildkim.pl verify ZONE < msg      one "dkim=..."/"domainkeys=..." a line
#   maildkim.pl sign dkim|dk KEY DOMAIN SELECTOR CANON < msg > signed
use strict;
use warnings;
use Mail::DKIM::Verifier;
use Mail::DKIM::Signer;
use Mail::DKIM::DkSignature;
use Mail::DKIM::Signature;
use Net::DNS;

my %rec;
sub load_zone {
	open(my $f, '<', shift) or die;
	while (<$f>) {
		next unless /^(\S+)\.\s.*\bTXT\b(.*)$/;
		my ($n, $t) = (lc $1, $2);
		$rec{$n} = join('', $t =~ /"((?:[^"\\]|\\.)*)"/g);
	}
}
# A resolver answering from the zone file, in place of Net::DNS's.
package ZoneResolver;
sub new { return bless {}, shift }
sub errorstring { return 'NOERROR' }
sub send {
	my ($self, $name, $type) = @_;
	my $p = Net::DNS::Packet->new($name, $type);
	$p->header->qr(1);
	my $t = $rec{lc $name};
	if (defined $t) {
		$p->push(answer => Net::DNS::RR->new(name => $name,
		    type => 'TXT', txtdata => [unpack('(A255)*', $t)]));
	} else {
		$p->header->rcode('NXDOMAIN');
	}
	return $p;
}
package main;
Mail::DKIM::DNS::resolver(ZoneResolver->new);

binmode STDIN;
binmode STDOUT;
my $msg = do { local $/; <STDIN> };
(my $crlf = $msg) =~ s/\r?\n/\r\n/g;
if ($ARGV[0] eq 'verify') {
	load_zone($ARGV[1]);
	my $v = Mail::DKIM::Verifier->new;
	$v->PRINT($crlf);
	$v->CLOSE;
	for my $s ($v->signatures) {
		my $m = $s->isa('Mail::DKIM::DkSignature') ? 'domainkeys' : 'dkim';
		print "$m=", $s->result, "\n";
	}
	exit 0;
}
my (undef, $kind, $key, $domain, $sel, $canon) = @ARGV;
my $s = Mail::DKIM::Signer->new(KeyFile => $key, Policy => sub {
	my $signer = shift;
	$signer->add_signature($kind eq 'dk' ?
	    Mail::DKIM::DkSignature->new(Algorithm => 'rsa-sha1',
	    Method => $canon, Domain => $domain, Selector => $sel,
	    Query => 'dns') :
	    Mail::DKIM::Signature->new(Algorithm => 'rsa-sha256',
	    Method => $canon, Domain => $domain, Selector => $sel,
	    Headers => $signer->headers));
	return;
});
$s->PRINT($crlf);
$s->CLOSE;
print $s->signature->as_string, "\r\n", $crlf;
