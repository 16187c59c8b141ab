/*-------------------------------------------------------------------------
 *
 * fake_dictionaries_en.cpp
 *		English (en) dictionary for the fake_* methods: common first and
 *		last names of English-speaking countries, US and UK cities, street
 *		names, company name parts, and the formats that put them together.
 *
 *		Phone numbers use 555-0100..555-0199, reserved for fiction in every
 *		North American area code; e-mail domains are those of RFC 2606.
 *		Changing a list changes every deterministic fake: add words at the
 *		end only in a release that says so.
 *
 * IDENTIFICATION
 *		src/core/anon/fake_dictionaries_en.cpp
 *-------------------------------------------------------------------------
 */
#include "anon/fake_dictionaries.hpp"

namespace pg_retention
{

namespace
{

using sv = std::string_view;

constexpr sv kFirstNames[] = {
    "James",     "Mary",      "John",       "Patricia", "Robert",    "Jennifer", "Michael",
    "Linda",     "William",   "Elizabeth",  "David",    "Barbara",   "Richard",  "Susan",
    "Joseph",    "Jessica",   "Thomas",     "Sarah",    "Charles",   "Karen",    "Christopher",
    "Nancy",     "Daniel",    "Lisa",       "Matthew",  "Betty",     "Anthony",  "Margaret",
    "Mark",      "Sandra",    "Donald",     "Ashley",   "Steven",    "Kimberly", "Paul",
    "Emily",     "Andrew",    "Donna",      "Joshua",   "Michelle",  "Kenneth",  "Carol",
    "Kevin",     "Amanda",    "Brian",      "Dorothy",  "George",    "Melissa",  "Timothy",
    "Deborah",   "Ronald",    "Stephanie",  "Edward",   "Rebecca",   "Jason",    "Sharon",
    "Jeffrey",   "Laura",     "Ryan",       "Cynthia",  "Jacob",     "Kathleen", "Gary",
    "Amy",       "Nicholas",  "Angela",     "Eric",     "Shirley",   "Jonathan", "Anna",
    "Stephen",   "Brenda",    "Larry",      "Pamela",   "Justin",    "Emma",     "Scott",
    "Nicole",    "Brandon",   "Helen",      "Benjamin", "Samantha",  "Samuel",   "Katherine",
    "Gregory",   "Christine", "Alexander",  "Debra",    "Frank",     "Rachel",   "Patrick",
    "Carolyn",   "Raymond",   "Janet",      "Jack",     "Catherine", "Dennis",   "Maria",
    "Jerry",     "Heather",   "Tyler",      "Diane",    "Aaron",     "Ruth",     "Jose",
    "Julie",     "Adam",      "Olivia",     "Nathan",   "Joyce",     "Henry",    "Virginia",
    "Douglas",   "Victoria",  "Zachary",    "Kelly",    "Peter",     "Lauren",   "Kyle",
    "Christina", "Ethan",     "Joan",       "Walter",   "Evelyn",    "Noah",     "Judith",
    "Jeremy",    "Megan",     "Christian",  "Andrea",   "Keith",     "Cheryl",   "Roger",
    "Hannah",    "Terry",     "Jacqueline", "Gerald",   "Martha",    "Harold",   "Gloria",
    "Sean",      "Teresa",    "Austin",     "Ann",      "Carl",      "Sara",     "Arthur",
    "Madison",   "Lawrence",  "Frances",    "Dylan",    "Kathryn",   "Jesse",    "Janice",
    "Jordan",    "Jean",      "Bryan",      "Abigail",  "Billy",     "Alice",    "Joe",
    "Judy",      "Bruce",     "Sophia",     "Gabriel",  "Grace",     "Logan",    "Denise",
    "Albert",    "Amber",     "Willie",     "Doris",    "Alan",      "Marilyn",  "Juan",
    "Danielle",  "Wayne",     "Beverly",    "Elijah",   "Isabella",  "Randy",    "Theresa",
    "Roy",       "Diana",     "Vincent",    "Natalie",  "Ralph",     "Brittany", "Eugene",
    "Charlotte", "Russell",   "Marie",      "Bobby",    "Kayla",     "Mason",    "Alexis",
    "Philip",    "Lori",      "Louis",      "Chloe",    "Oliver",    "Lucy",     "Harry",
    "Amelia",    "Leo",       "Isla",       "Oscar",    "Freya",     "Archie",   "Poppy",
    "Alfie",     "Ivy",       "Theo",       "Florence", "Finley",    "Rosie",    "Owen",
    "Evie",
};

constexpr sv kLastNames[] = {
    "Smith",    "Johnson",   "Williams",   "Brown",     "Jones",      "Garcia",    "Miller",
    "Davis",    "Rodriguez", "Martinez",   "Hernandez", "Lopez",      "Gonzalez",  "Wilson",
    "Anderson", "Thomas",    "Taylor",     "Moore",     "Jackson",    "Martin",    "Lee",
    "Perez",    "Thompson",  "White",      "Harris",    "Sanchez",    "Clark",     "Ramirez",
    "Lewis",    "Robinson",  "Walker",     "Young",     "Allen",      "King",      "Wright",
    "Scott",    "Torres",    "Nguyen",     "Hill",      "Flores",     "Green",     "Adams",
    "Nelson",   "Baker",     "Hall",       "Rivera",    "Campbell",   "Mitchell",  "Carter",
    "Roberts",  "Gomez",     "Phillips",   "Evans",     "Turner",     "Diaz",      "Parker",
    "Cruz",     "Edwards",   "Collins",    "Reyes",     "Stewart",    "Morris",    "Morales",
    "Murphy",   "Cook",      "Rogers",     "Gutierrez", "Ortiz",      "Morgan",    "Cooper",
    "Peterson", "Bailey",    "Reed",       "Kelly",     "Howard",     "Ramos",     "Kim",
    "Cox",      "Ward",      "Richardson", "Watson",    "Brooks",     "Chavez",    "Wood",
    "James",    "Bennett",   "Gray",       "Mendoza",   "Ruiz",       "Hughes",    "Price",
    "Alvarez",  "Castillo",  "Sanders",    "Patel",     "Myers",      "Long",      "Ross",
    "Foster",   "Jimenez",   "Powell",     "Jenkins",   "Perry",      "Russell",   "Sullivan",
    "Bell",     "Coleman",   "Butler",     "Henderson", "Barnes",     "Gonzales",  "Fisher",
    "Vasquez",  "Simmons",   "Romero",     "Jordan",    "Patterson",  "Alexander", "Hamilton",
    "Graham",   "Reynolds",  "Griffin",    "Wallace",   "Moreno",     "West",      "Cole",
    "Hayes",    "Bryant",    "Herrera",    "Gibson",    "Ellis",      "Tran",      "Medina",
    "Aguilar",  "Stevens",   "Murray",     "Ford",      "Castro",     "Marshall",  "Owens",
    "Harrison", "Fernandez", "McDonald",   "Woods",     "Washington", "Kennedy",   "Wells",
    "Vargas",   "Henry",     "Chen",       "Freeman",   "Webb",       "Tucker",    "Guzman",
    "Burns",    "Crawford",  "Olson",      "Simpson",   "Porter",     "Hunter",    "Gordon",
    "Mendez",   "Silva",     "Shaw",       "Snyder",    "Mason",      "Dixon",     "Munoz",
    "Hunt",     "Hicks",     "Holmes",     "Palmer",    "Wagner",     "Black",     "Robertson",
    "Boyd",     "Rose",      "Stone",      "Salazar",   "Fox",        "Warren",    "Mills",
    "Meyer",    "Rice",      "Schmidt",    "Garza",     "Daniels",    "Ferguson",  "Nichols",
    "Stephens", "Soto",      "Weaver",     "Ryan",      "Gardner",    "Payne",     "Grant",
    "Dunn",     "Kelley",    "Spencer",    "Hawkins",   "Arnold",     "Pierce",    "Vazquez",
    "Hansen",   "Peters",    "Santos",     "Hart",      "Bradley",    "Knight",    "Elliott",
    "O'Brien",  "O'Connor",  "Fletcher",   "Lawson",    "Chapman",    "Barker",    "Hudson",
};

constexpr sv kCities[] = {
    "New York",        "Los Angeles",    "Chicago",        "Houston",
    "Phoenix",         "Philadelphia",   "San Antonio",    "San Diego",
    "Dallas",          "San Jose",       "Austin",         "Jacksonville",
    "Fort Worth",      "Columbus",       "Charlotte",      "Indianapolis",
    "San Francisco",   "Seattle",        "Denver",         "Oklahoma City",
    "Nashville",       "El Paso",        "Washington",     "Boston",
    "Las Vegas",       "Portland",       "Detroit",        "Louisville",
    "Memphis",         "Baltimore",      "Milwaukee",      "Albuquerque",
    "Tucson",          "Fresno",         "Sacramento",     "Mesa",
    "Kansas City",     "Atlanta",        "Omaha",          "Colorado Springs",
    "Raleigh",         "Long Beach",     "Virginia Beach", "Miami",
    "Oakland",         "Minneapolis",    "Tulsa",          "Bakersfield",
    "Wichita",         "Arlington",      "Aurora",         "Tampa",
    "New Orleans",     "Cleveland",      "Honolulu",       "Anaheim",
    "Lexington",       "Stockton",       "Corpus Christi", "Henderson",
    "Riverside",       "Newark",         "Saint Paul",     "Santa Ana",
    "Cincinnati",      "Irvine",         "Orlando",        "Pittsburgh",
    "St. Louis",       "Greensboro",     "Jersey City",    "Anchorage",
    "Lincoln",         "Plano",          "Durham",         "Buffalo",
    "Chandler",        "Chula Vista",    "Toledo",         "Madison",
    "Gilbert",         "Reno",           "Fort Wayne",     "North Las Vegas",
    "St. Petersburg",  "Lubbock",        "Irving",         "Laredo",
    "Winston-Salem",   "Chesapeake",     "Glendale",       "Garland",
    "Scottsdale",      "Norfolk",        "Boise",          "Fremont",
    "Spokane",         "Santa Clarita",  "Baton Rouge",    "Richmond",
    "Hialeah",         "San Bernardino", "Tacoma",         "Modesto",
    "Huntsville",      "Des Moines",     "Yonkers",        "Rochester",
    "Moreno Valley",   "Fayetteville",   "Fontana",        "Syracuse",
    "Worcester",       "Port St. Lucie", "Little Rock",    "Augusta",
    "Oxnard",          "Birmingham",     "Montgomery",     "Frisco",
    "Amarillo",        "Salt Lake City", "Grand Rapids",   "Huntington Beach",
    "Overland Park",   "Ann Arbor",      "Tallahassee",    "Grand Prairie",
    "McKinney",        "Cape Coral",     "Sioux Falls",    "Peoria",
    "Providence",      "Vancouver",      "Knoxville",      "Akron",
    "Shreveport",      "Mobile",         "Brownsville",    "Newport News",
    "Fort Lauderdale", "Chattanooga",    "Tempe",          "Eugene",
    "Savannah",        "London",         "Manchester",     "Leeds",
    "Liverpool",       "Sheffield",      "Bristol",        "Newcastle upon Tyne",
    "Nottingham",      "Leicester",      "Coventry",       "Bradford",
    "Southampton",     "Portsmouth",     "Plymouth",       "Reading",
    "Brighton",        "Derby",          "Norwich",        "Oxford",
    "Cambridge",       "York",           "Exeter",         "Bath",
    "Canterbury",      "Chester",        "Edinburgh",      "Glasgow",
    "Aberdeen",        "Dundee",         "Inverness",      "Cardiff",
    "Swansea",         "Newport",        "Belfast",        "Derry",
};

constexpr sv kStreetNames[] = {
    "Maple",      "Oak",      "Pine",      "Cedar",    "Elm",         "Birch",       "Willow",
    "Walnut",     "Chestnut", "Spruce",    "Hickory",  "Magnolia",    "Dogwood",     "Sycamore",
    "Aspen",      "Cherry",   "Laurel",    "Juniper",  "Poplar",      "Holly",       "Main",
    "Church",     "High",     "Mill",      "Park",     "Lake",        "Hill",        "River",
    "Spring",     "Forest",   "Meadow",    "Valley",   "Ridge",       "Sunset",      "Highland",
    "Washington", "Franklin", "Jefferson", "Madison",  "Lincoln",     "Jackson",     "Adams",
    "First",      "Second",   "Third",     "Fourth",   "Fifth",       "Sixth",       "Seventh",
    "Eighth",     "Ninth",    "Tenth",     "Broad",    "Market",      "Union",       "Center",
    "North",      "South",    "Water",     "Bridge",   "Front",       "Prospect",    "Pleasant",
    "Summit",     "Grove",    "Orchard",   "Garden",   "Railroad",    "School",      "College",
    "Academy",    "Liberty",  "Cambridge", "Oxford",   "Windsor",     "Kingston",    "Victoria",
    "Queen",      "King",     "York",      "Chester",  "Dover",       "Bristol",     "Essex",
    "Kent",       "Devon",    "Harbor",    "Bay",      "Ocean",       "Shore",       "Beach",
    "Cliff",      "Canyon",   "Mesa",      "Prairie",  "Heather",     "Ivy",         "Rose",
    "Lilac",      "Daisy",    "Primrose",  "Bluebell", "Sunflower",   "Clover",      "Fox",
    "Deer",       "Hawk",     "Eagle",     "Falcon",   "Robin",       "Sparrow",     "Cardinal",
    "Heron",      "Swan",     "Lakeview",  "Fairview", "Riverside",   "Woodland",    "Brookside",
    "Greenwood",  "Westwood", "Oakwood",   "Elmwood",  "Cherry Hill", "Stonebridge", "Millbrook",
};

constexpr sv kStreetTypes[] = {
    "Street", "Avenue", "Road", "Lane", "Drive", "Court", "Boulevard", "Way", "Place", "Terrace",
};

constexpr sv kCompanyDescriptors[] = {
    "Blue",     "Summit",     "Northern", "Silver",    "Pioneer",   "Evergreen", "Golden",
    "Crescent", "Atlas",      "Apex",     "Beacon",    "Cedar",     "Coastal",   "Crystal",
    "Eagle",    "Emerald",    "Frontier", "Granite",   "Harbor",    "Heritage",  "Horizon",
    "Liberty",  "Lighthouse", "Maple",    "Meridian",  "Midwest",   "Orchard",   "Pacific",
    "Pinnacle", "Prairie",    "Redwood",  "Riverside", "Sterling",  "Sunrise",   "Keystone",
    "Trinity",  "Union",      "Valley",   "Vanguard",  "Westfield", "Bright",    "Iron",
    "Highland", "Northstar",
};

constexpr sv kCompanyActivities[] = {
    "Logistics",  "Systems",         "Foods",     "Consulting",    "Analytics",   "Construction",
    "Solutions",  "Technologies",    "Partners",  "Industries",    "Holdings",    "Labs",
    "Media",      "Energy",          "Health",    "Capital",       "Ventures",    "Software",
    "Networks",   "Design",          "Supply",    "Manufacturing", "Engineering", "Realty",
    "Insurance",  "Security",        "Services",  "Transport",     "Farms",       "Brewing",
    "Outfitters", "Pharmaceuticals", "Robotics",  "Studios",       "Telecom",     "Textiles",
    "Motors",     "Apparel",         "Interiors", "Marine",        "Aerospace",   "Dynamics",
};

constexpr sv kCompanySuffixes[] = {
    "Inc.", "LLC", "Ltd", "Corp.", "Co.", "Group", "PLC", "& Sons",
};

/* Real area codes; 555-01xx is fictional in all of them. */
constexpr sv kAreaCodes[] = {
    "201", "202", "206", "212", "213", "214", "303", "305", "312", "404", "415", "503",
    "512", "602", "617", "702", "713", "720", "802", "808", "816", "907", "919", "971",
};

constexpr sv kFirstNameFormats[] = {"{F}"};
constexpr sv kLastNameFormats[] = {"{L}"};
constexpr sv kEmailFormats[] = {
    "{f}.{l}{n}@example.com",
    "{f}.{l}{n}@example.org",
    "{f}.{l}{n}@example.net",
};
constexpr sv kPhoneFormats[] = {"+1 {R}-555-01##"};
constexpr sv kCityFormats[] = {"{C}"};
constexpr sv kAddressFormats[] = {"{N} {W} {T}"};
constexpr sv kCompanyFormats[] = {
    "{L} {S}", "{A} {B} {S}", "{A} {B}", "{L} & {L}", "{L} {B}",
};

} // namespace

const FakeDictionary kEnglishFakeDictionary = {
    kFirstNames,
    kLastNames,
    kCities,
    kStreetNames,
    kStreetTypes,
    kCompanyDescriptors,
    kCompanyActivities,
    kCompanySuffixes,
    kAreaCodes,
    9999,
    {kFirstNameFormats, kLastNameFormats, kEmailFormats, kPhoneFormats, kCityFormats,
     kAddressFormats, kCompanyFormats},
};

} // namespace pg_retention
