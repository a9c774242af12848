#!/usr/bin/perl
# dhcp-raw-options.pl IFACE SECONDS [READY_FILE]: waits (at most SECONDS) for the first DHCPACK that reaches IFACE
# for IFACE's own MAC and prints every option in it as raw bytes, `raw_option_CODE=hex:bytes`.
#
# netboot-lab dhcp-probe runs it beside busybox udhcpc in the client's namespace: udhcpc hands its
# script C strings, so a trailing NUL (Microsoft DHCP appends one to string options such as the root
# path, 17) never shows there. This reads the frame itself from a packet socket, as the client got it.
# READY_FILE is created once the socket listens, so the caller can start the exchange after that.
use strict;
use warnings;
use Socket qw(SOCK_RAW);

my ($iface, $seconds, $ready_file) = @ARGV;
die "usage: $0 IFACE SECONDS [READY_FILE]\n" unless defined $seconds && $seconds =~ /^[0-9]+$/;
my $AF_PACKET = 17;      # linux/socket.h
my $ETH_P_ALL = 0x0003;  # linux/if_ether.h, in network byte order below

sub read_sys {
    my ($file) = @_;
    open(my $fh, '<', "/sys/class/net/$iface/$file") or die "$iface: $file: $!\n";
    chomp(my $value = <$fh>);
    return $value;
}
my $ifindex = read_sys('ifindex');
my $own_mac = pack('H12', join('', split(/:/, read_sys('address'))));

# The protocol argument is htons(ETH_P_ALL): the network-order bytes read as a native short.
socket(my $sock, $AF_PACKET, SOCK_RAW, unpack('S', pack('n', $ETH_P_ALL)))
    or die "packet socket: $!\n";
# struct sockaddr_ll: family, protocol (network order), ifindex, hatype, pkttype, halen, addr[8]
bind($sock, pack('S n i S C C a8', $AF_PACKET, $ETH_P_ALL, $ifindex, 0, 0, 0, '')) or die "bind $iface: $!\n";
if (defined $ready_file) {
    open(my $ready, '>', $ready_file) or die "$ready_file: $!\n";
    close($ready);
}

local $SIG{ALRM} = sub { exit 1 };
alarm($seconds);
while (1) {
    defined(recv($sock, my $frame, 65535, 0)) or die "recv: $!\n";
    next if length($frame) < 14 + 20 + 8 + 240;
    next unless unpack('n', substr($frame, 12, 2)) == 0x0800;    # IPv4
    my $ip = substr($frame, 14);
    my $ihl = (ord(substr($ip, 0, 1)) & 0x0f) * 4;
    next unless ord(substr($ip, 9, 1)) == 17;                     # UDP
    my $udp = substr($ip, $ihl);
    next unless unpack('n', substr($udp, 2, 2)) == 68;           # to the DHCP client port
    my $dhcp = substr($udp, 8);
    next unless ord(substr($dhcp, 0, 1)) == 2;                    # BOOTREPLY
    next unless substr($dhcp, 28, 6) eq $own_mac;                 # chaddr: this client
    next unless unpack('N', substr($dhcp, 236, 4)) == 0x63825363; # magic cookie
    my ($pos, @options, $type) = (240);
    while ($pos < length($dhcp)) {
        my $code = ord(substr($dhcp, $pos, 1));
        last if $code == 255;
        if ($code == 0) { $pos++; next; }
        my $len = ord(substr($dhcp, $pos + 1, 1));
        my $data = substr($dhcp, $pos + 2, $len);
        $type = ord($data) if $code == 53;
        push @options, [$code, $data];
        $pos += 2 + $len;
    }
    next unless defined $type && $type == 5;                      # DHCPACK
    printf "raw_option_%d=%s\n", $_->[0], join(':', unpack('(H2)*', $_->[1])) for @options;
    exit 0;
}
